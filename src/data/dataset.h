/* dataset.h - the data catalog service: registering datasets with their schema and
 * the grading workflow (Xinyang measures Art. 27-33).
 *
 * A data owner registers a dataset for their own department; the grade suggested from
 * the schema (catalog.h) applies until the security administrator confirms or sets
 * one.  Raising a grade is immediate; lowering one needs two people, the data owner of
 * the department and secadmin, in either order: the first request is held as pending
 * and the second, for the same grade, applies it.  Every step writes an audit event. */
#ifndef GV_DATA_DATASET_H
#define GV_DATA_DATASET_H

#include <jansson.h>

#include "auth/app.h"
#include "data/catalog.h"

struct dataset_input {
	const char *name, *title, *category, *description, *legal_basis;
	int retention_days;
	long long expected_rows;
	const json_t *schema;
	const json_t *quality_rules;     /* array (data/quality.h) or NULL */
	const json_t *lineage;           /* {"sources": [names], "transformation"} or NULL */
};

/* Registers in->name for actor's department.  why names the problem (static or in
 * whybuf). */
gv_err dataset_register(struct gv_app *app, const struct store_account *actor,
			const struct dataset_input *in, struct store_dataset *out,
			char *why, size_t whylen) GV_MUST_CHECK;
/* Replaces the quality rules of name (the department's data owner); audited. */
gv_err dataset_set_rules(struct gv_app *app, const struct store_account *actor, const char *name,
			 const json_t *rules, struct store_dataset *out, char *why,
			 size_t whylen) GV_MUST_CHECK;
/* Validates rules against the dataset's schema beyond what quality.h checks: a unique
 * rule needs an indexed field (the blind index is how stored values are compared) and
 * a reference rule a dataset actor can see whose ref_field is indexed.  canon gets the
 * rules as compact JSON. */
gv_err dataset_rules_check(struct gv_app *app, const struct store_account *actor,
			   const struct catalog_schema *schema, const json_t *rules, char *canon,
			   size_t canonlen, char *why, size_t whylen) GV_MUST_CHECK;
/* {"dataset", "sources": [...], "derived": [...]} (new reference). */
gv_err dataset_lineage(struct gv_app *app, const struct store_dataset *d, json_t **out) GV_MUST_CHECK;
/* Confirms, raises, or requests / completes the lowering of the grade of name. */
gv_err dataset_set_grade(struct gv_app *app, const struct store_account *actor, const char *name,
			 int grade, const char *reason, struct store_dataset *out,
			 const char **why) GV_MUST_CHECK;
/* GV_OK if the [data] settings are usable; why names the setting.  govvaultd runs it at
 * start and installs it as the app's config_check, so a reload is refused the same way
 * (a bad kind would otherwise fail every registration). */
gv_err dataset_check_config(const struct gv_config *cfg, char *why, size_t whylen) GV_MUST_CHECK;
/* 1 if actor may see name's metadata: secadmin any; business roles their department. */
int dataset_visible(const struct store_account *actor, const struct store_dataset *d);

#endif
