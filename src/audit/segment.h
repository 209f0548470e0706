/* segment.h - audit segment files: naming, framing, listing and mapping.
 *
 * A segment is a file "seg-<first seq, 20 digits>.gva" holding frames back to back:
 *   "GVA1" | u32 big-endian payload length | payload (record.h encoding) | h (32 bytes)
 * where h is the chain hash after this record.  Frames never span files; the chain
 * does.  A reader classifies what follows a position as a whole frame, the clean end,
 * or a torn tail (an incomplete last frame, as left by a crash mid-write). */
#ifndef GV_AUDIT_SEGMENT_H
#define GV_AUDIT_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

#define SEG_MAGIC "GVA1"
#define SEG_HASH_LEN 32
#define SEG_HEAD_LEN 8
#define SEG_PAYLOAD_MAX 65536
#define SEG_NAME_LEN 32

enum seg_step {
	SEG_FRAME,   /* *payload, *plen and *hash describe the frame; *pos moved past it */
	SEG_END,     /* *pos == len */
	SEG_TORN,    /* fewer bytes left than the frame needs */
	SEG_BAD,     /* wrong magic or impossible length */
};

/* Appends one frame. */
gv_err seg_frame_put(struct gv_buf *out, const unsigned char *payload, size_t plen,
		     const unsigned char hash[SEG_HASH_LEN]) GV_MUST_CHECK;
/* Reads the frame at *pos of data[0..len). */
enum seg_step seg_frame_next(const unsigned char *data, size_t len, size_t *pos,
			     const unsigned char **payload, size_t *plen,
			     const unsigned char **hash);

/* The chain step: out = SM3(prev || payload). */
void seg_chain_hash(const unsigned char prev[SEG_HASH_LEN], const unsigned char *payload,
		    size_t len, unsigned char out[SEG_HASH_LEN]);
/* The last complete frame of data[0..len): 1 and its payload and hash, or 0. */
int seg_last_frame(const unsigned char *data, size_t len, const unsigned char **payload,
		   size_t *plen, const unsigned char **hash);

/* "seg-%020lld.gva" for first_seq. */
void seg_name(int64_t first_seq, char out[SEG_NAME_LEN]);

struct seg_list {
	char (*names)[SEG_NAME_LEN];
	int64_t *first_seq;
	size_t n;
};

/* Segment files of dir sorted by first sequence; other files are ignored.  Release
 * with seg_list_release. */
gv_err seg_list_read(const char *dir, struct seg_list *out) GV_MUST_CHECK;
void seg_list_release(struct seg_list *l);

#define SEG_FILE_MAX ((int64_t)1 << 30)

/* A whole segment file read into memory (len 0: empty); release with seg_unmap. */
struct seg_map {
	unsigned char *data;
	size_t len;
};
gv_err seg_map_file(const char *path, struct seg_map *out) GV_MUST_CHECK;
void seg_unmap(struct seg_map *m);

/* The last archived record and its chain hash, from dir/pruned.state (written when
 * segments are pruned); GV_ERR_NOT_FOUND when nothing was ever pruned. */
gv_err seg_pruned_state(const char *dir, int64_t *last, unsigned char hash[SEG_HASH_LEN],
			char hex[2 * SEG_HASH_LEN + 1]) GV_MUST_CHECK;

/* fsync of a directory, so that a file created, renamed or removed in it survives a
 * crash. */
gv_err seg_fsync_dir(const char *dir) GV_MUST_CHECK;

#endif
