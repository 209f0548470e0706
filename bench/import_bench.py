"""Batch-import figures with a baseline measured in the same run: rows/s and MB/s of a
streamed CSV import (POST /v1/datasets/NAME/batches) of 1 KiB rows into a grade-2
dataset with 3 encrypted fields (one with a blind index) and 5 quality rules, beside raw
SQLite batched inserts of the same file's lines (import_baseline.c: transactions of 512
rows, one prepared statement, govvault's pragmas and records table; each of its
transactions is durable on its own, while an import, all or nothing, syncs once at its
commit).

The daemon is the real govvaultd over HTTPS, with its per-request audit record; the
import is timed from the first byte of the request to the 201 answer and must accept
every row.  The baseline reads the very CSV file that was POSTed.
usage: import_bench.py BUILD_DIR [BASELINE_BINARY]
  BUILD_DIR: the build-bench directory; the baseline is BUILD_DIR/bench-tools/import_baseline
  (bench/run.sh builds it; built here with cc when missing or older than its source).
  BENCH_IMPORT_ROWS (default 20000) rows; BENCH_IMPORT_CHUNKED=1 sends the body with
  chunked transfer encoding instead of Content-Length."""
import datetime
import hashlib
import http.client
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import gvtest  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
BASELINE = (os.path.abspath(sys.argv[2]) if len(sys.argv) > 2
            else os.path.join(BUILD, "bench-tools", "import_baseline"))
ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "20000"))
CHUNKED = os.environ.get("BENCH_IMPORT_CHUNKED") == "1"
ROW_BYTES = 1024            # every CSV line, its LF included
DATASET = "residents"
gvtest.BIN = os.path.join(BUILD, "src")
gvtest.DAEMON = os.path.join(gvtest.BIN, "govvaultd")
gvtest.CLI = os.path.join(gvtest.BIN, "govvault")

CATEGORIES = ["permanent", "temporary", "migrant", "overseas"]
SCHEMA = {"fields": [
    {"name": "resident_id", "type": "string", "kind": "resident_id", "required": True, "indexed": True},
    {"name": "name", "type": "string", "kind": "name"},
    {"name": "mobile", "type": "string", "kind": "mobile"},
    {"name": "district", "type": "string"},
    {"name": "category", "type": "string"},
    {"name": "age", "type": "integer"},
    {"name": "household_size", "type": "integer"},
    {"name": "registered", "type": "date"},
    {"name": "occupation", "type": "string"},
    {"name": "notes", "type": "string"}]}
RULES = [
    {"field": "resident_id", "rule": "required"},
    {"field": "resident_id", "rule": "checksum", "kind": "resident_id"},
    {"field": "mobile", "rule": "pattern", "pattern": "^1[3-9][0-9]{9}$"},
    {"field": "category", "rule": "enum", "values": CATEGORIES},
    {"field": "age", "rule": "range", "min": 0, "max": 120}]
# resident_id is an important kind by default (suggested grade 3); the benchmark wants a
# dataset whose suggestion is grade 2, so only the other default kinds stay important.
EXTRA = "[data]\nimportant_kinds = bank_card,passport\n"

AREAS = ["110101", "110105", "310104", "310115", "440305", "440106", "510107", "330106",
         "420106", "610113", "370202", "320102", "410102", "411502", "500103", "350203"]
DISTRICTS = ["Dongcheng", "Chaoyang", "Xuhui", "Pudong", "Nanshan", "Tianhe", "Wuhou",
             "Xihu", "Wuchang", "Yanta", "Shinan", "Xuanwu", "Zhongyuan", "Shihe", "Yuzhong", "Siming"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文"
OCCUPATIONS = ["teacher", "nurse", "engineer", "farmer", "driver", "clerk", "retired",
               "student", "merchant", "civil servant", "technician", "self-employed"]
WORDS = ("household registration verified community service centre residence permit renewal "
         "social insurance contribution record updated address confirmed by grid officer "
         "annual review completed no outstanding items").split()


def resident_id(rng):
    """GB 11643-1999: area code, birth date, sequence, ISO 7064 MOD 11-2 check character."""
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 65))
    body = "%s%s%03d" % (rng.choice(AREAS), born.strftime("%Y%m%d"), rng.randrange(1000))
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11], born


def row(rng, today):
    rid, born = resident_id(rng)
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    mobile = "1" + rng.choice("3456789") + "%09d" % rng.randrange(10 ** 9)
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    registered = born + datetime.timedelta(days=rng.randrange(max(1, (today - born).days)))
    cells = [rid, name, mobile, rng.choice(DISTRICTS), rng.choice(CATEGORIES), str(age),
             str(rng.randint(1, 8)), registered.isoformat(), rng.choice(OCCUPATIONS)]
    head = (",".join(cells) + ",").encode()
    need = ROW_BYTES - 1 - len(head)
    notes = ""
    while len(notes) < need:
        notes += rng.choice(WORDS) + " "
    return head + notes[:need].rstrip().ljust(need, ".").encode() + b"\n"


def write_csv(path):
    rng, today = random.Random(20240611), datetime.date.today()
    with open(path, "wb") as f:
        f.write((",".join(x["name"] for x in SCHEMA["fields"]) + "\n").encode())
        for _ in range(ROWS):
            f.write(row(rng, today))


def sm3_file(path):
    try:
        h = hashlib.new("sm3")
    except ValueError:
        out = subprocess.run(["openssl", "dgst", "-sm3", "-r", path], capture_output=True, text=True,
                             check=True).stdout
        return out.split()[0]
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def baseline_binary():
    src = os.path.join(HERE, "import_baseline.c")
    if not os.path.exists(BASELINE) or os.path.getmtime(BASELINE) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(BASELINE), exist_ok=True)
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "sqlite3"], capture_output=True,
                               text=True, check=True).stdout.split()
        subprocess.run(["cc", "-O2", "-Wall", "-o", BASELINE, src] + flags, check=True)
    return BASELINE


def check(cond, what):
    if not cond:
        raise SystemExit("import_bench: " + what)


def setup(d):
    """secadmin, a Statistics data owner with clearance 2, the dataset registered with its
    rules and its grade 2 confirmed.  Returns the owner's token."""
    sec = d.activate_admin("secadmin").token
    owner, _ = d.user(sec, "olga", roles=("data_owner",), department="Statistics", clearance=2)
    s, r = d.req("POST", "/v1/datasets", {
        "name": DATASET, "title": "Registered residents", "category": "civil affairs",
        "description": "import benchmark", "legal_basis": "Household Registration Regulations Art. 3",
        "retention_days": 3650, "expected_rows": ROWS, "schema": SCHEMA, "quality_rules": RULES}, owner)
    check(s == 201, "register dataset: %s %s" % (s, r))
    check(r["grade_suggested"] == 2, "suggested grade %s, not 2: %s" % (r["grade_suggested"], r))
    check(sum(1 for f in r["schema"]["fields"] if f.get("sensitive")) == 3, "sensitive fields: %s" % r)
    check(len(r.get("quality_rules") or []) == 5, "quality rules not kept: %s" % r)
    s, r = d.req("POST", "/v1/datasets/%s/grade" % DATASET, {"grade": 2, "reason": "personal data, benchmark"},
                 sec)
    check(s == 200 and r["grade"] == 2 and r["grade_confirmed"], "confirm grade: %s %s" % (s, r))
    return owner


def post_import(d, token, path, digest):
    """Streams the file; returns (seconds from first byte to the answer, status, body)."""
    size = os.path.getsize(path)
    conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.context(), timeout=3600,
                                       blocksize=1 << 16)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "text/csv", "X-Content-SM3": digest}
    url = "/v1/datasets/%s/batches?source=bench&format=csv" % DATASET
    try:
        conn.connect()   # TCP and TLS handshake are not part of the import
        with open(path, "rb") as f:
            t0 = time.perf_counter()
            try:
                if CHUNKED:
                    conn.request("POST", url, iter(lambda: f.read(1 << 16), b""), headers, encode_chunked=True)
                else:
                    headers["Content-Length"] = str(size)
                    conn.request("POST", url, f, headers)
            except OSError as e:   # answered and closed before the whole body went: read why
                print("import_bench: sending stopped: %r" % e, file=sys.stderr)
            resp = conn.getresponse()
            body = resp.read()
            t = time.perf_counter() - t0
        return t, resp.status, body
    finally:
        conn.close()


def main():
    base_bin = baseline_binary()
    work = tempfile.mkdtemp(prefix="gvimportbench-")
    d = None
    try:
        csv_path = os.path.join(work, "rows.csv")
        write_csv(csv_path)
        size = os.path.getsize(csv_path)
        digest = sm3_file(csv_path)
        os.sync()   # neither side pays for the other's dirty pages (see below)

        d = gvtest.Daemon(EXTRA)
        d.start()
        owner = setup(d)
        os.sync()
        t, status, body = post_import(d, owner, csv_path, digest)
        check(status == 201, "import answered %d: %s\ndaemon log tail:\n%s"
              % (status, body[:2000].decode(errors="replace"), d.daemon_log()[-3000:]))
        batch = json.loads(body)
        check(batch["state"] == "committed" and batch["rows"] == ROWS and batch["accepted"] == ROWS
              and batch["quarantined"] == 0 and batch["flagged"] == 0 and batch["bytes"] == size
              and batch["sm3"] == digest and len(batch["report"]["rules"]) == len(RULES)
              and not any(x["violated"] or x["not_checked"] for x in batch["report"]["rules"]),
              "unexpected batch: %s" % json.dumps(batch)[:2000])
        # The rows really are records: count them in the store, and find one by its
        # blind index and read it back decrypted.
        with sqlite3.connect("file:%s?mode=ro" % os.path.join(d.data, "govvault.db"), uri=True) as db:
            n = db.execute("SELECT count(*) FROM records r JOIN datasets d ON d.id = r.dataset_id"
                           " WHERE d.name = ?", (DATASET,)).fetchone()[0]
        check(n == ROWS, "%d records stored, not %d" % (n, ROWS))
        with open(csv_path, "rb") as f:
            f.readline()
            first = f.readline().decode().split(",")
        s, r = d.req("GET", "/v1/datasets/%s/search?field=resident_id&value=%s" % (DATASET, first[0]),
                     token=owner)
        check(s == 200 and any(x["data"].get("mobile") == first[2] for x in r["records"]),
              "search of an imported row: %s %s" % (s, r))
        d.stop()
        d = None
        os.sync()   # the daemon's database and log pages would otherwise be written back
                    # while the baseline waits for its own fsyncs

        out = subprocess.run([base_bin, csv_path, os.path.join(work, "baseline.db")],
                             capture_output=True, text=True, check=True).stdout
        b = {k: float(x) for k, x in (line.split() for line in out.splitlines())}
        check(int(b["rows"]) == ROWS, "baseline inserted %s rows" % b["rows"])

        print("\n%-64s %12s %12s %7s" % ("batch import (this run, %d rows of 1 KiB, %.1f MB)" % (ROWS, size / 1e6),
                                          "govvault", "baseline", "ratio"))
        for name, a, base in (
                ("import rows/s vs SQLite batched inserts rows/s", ROWS / t, b["rows_per_s"]),
                ("import MB/s vs SQLite batched inserts MB/s", size / 1e6 / t, b["mb_per_s"])):
            print("%-64s %12.1f %12.1f %6.2fx" % (name, a, base, a / base))
        print("(HTTPS %s body with X-Content-SM3, first byte to 201; grade-2 dataset, 3 sealed fields,"
              " 1 blind index, 5 quality rules; baseline: the same lines into a records-shaped table,"
              " 512 rows per transaction, WAL + synchronous=FULL; govvault's chunks commit without"
              " an fsync each, its batch's commit syncs them all)" % ("chunked" if CHUNKED else "Content-Length"))
    finally:
        if d:
            d.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
