/*-------------------------------------------------------------------------
 *
 * table_lists.c
 *		cachealot.exclude_tables and cachealot.include_tables: never cache
 *		results that read a listed table, or cache only results all of
 *		whose tables are listed.
 *
 * Each setting is a comma-separated list of table names, optionally
 * schema-qualified and double-quoted as in SQL.  The syntax is checked when
 * the setting is set (a malformed list is rejected with PostgreSQL's usual
 * error).  The names are resolved to OIDs when first needed after the
 * setting changed or after any change to pg_class or pg_namespace names (a
 * syscache callback), not per query: a renamed table leaves the list, a
 * re-created one of the same name joins it.  A name that does not resolve
 * is ignored, with a WARNING the first time this backend resolves that
 * value of the setting.  Unqualified names are looked up in the search
 * path as it is at resolution.
 *
 * A partition is listed when it or one of its ancestors is; the answer for
 * each relation read is remembered until the lists are resolved again.
 *
 * Backend-local: no lock.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "cachealot.h"
#include "table_lists.h"

/* the settings */
char	   *cachealot_exclude_tables = NULL;
char	   *cachealot_include_tables = NULL;

typedef struct TableList
{
	const char *setting_name;
	char	  **value;			/* the GUC variable */
	char	   *resolved_value; /* the value last warned about */
	List	   *relids;			/* in TopMemoryContext */
} TableList;

static TableList exclude_list = {"cachealot.exclude_tables",
&cachealot_exclude_tables, NULL, NIL};
static TableList include_list = {"cachealot.include_tables",
&cachealot_include_tables, NULL, NIL};

/* what each relation read was found to be, until the next resolution */
typedef struct RelationListing
{
	Oid			relid;			/* hash key */
	bool		excluded;
	bool		included;
} RelationListing;

static bool lists_valid = false;
static HTAB *listings = NULL;

/*
 * Split a list of possibly qualified, possibly quoted names at the commas
 * that are outside double quotes, and each name at its dots.  Returns a
 * List of Lists of name Strings, or false on bad syntax.
 */
static bool
parse_table_list(const char *value, List **names)
{
	char	   *copy = pstrdup(value);
	char	   *start = copy;
	char	   *p;
	bool		quoted = false;

	*names = NIL;
	for (p = copy;; p++)
	{
		if (*p == '"')
			quoted = !quoted;
		else if ((*p == ',' && !quoted) || *p == '\0')
		{
			bool		last = (*p == '\0');
			List	   *parts;

			List	   *name = NIL;
			ListCell   *lc;

			*p = '\0';
			if (!SplitIdentifierString(start, '.', &parts) ||
				list_length(parts) > 3)
				return false;
			/* SplitIdentifierString gives C strings; names are Strings */
			foreach(lc, parts)
				name = lappend(name, makeString((char *) lfirst(lc)));
			*names = lappend(*names, name);
			if (last)
				break;
			start = p + 1;
		}
	}
	if (quoted)
		return false;
	/* an empty setting is an empty list; an empty name is an error */
	if (list_length(*names) == 1 && linitial(*names) == NIL)
		*names = NIL;
	else
	{
		ListCell   *lc;

		foreach(lc, *names)
			if (lfirst(lc) == NIL)
				return false;
	}
	return true;
}

/* Does the setting hold anything but blanks? */
static inline bool
setting_is_set(const char *value)
{
	if (value == NULL)
		return false;
	while (*value == ' ')
		value++;
	return *value != '\0';
}

/* GUC check hook for both settings */
bool
table_list_check(char **newval, void **extra, GucSource source)
{
	List	   *names;

	if (!setting_is_set(*newval))
		return true;
	if (!parse_table_list(*newval, &names))
	{
		GUC_check_errdetail("List syntax is invalid: expected table names, optionally schema-qualified, separated by commas.");
		return false;
	}
	return true;
}

/* GUC assign hook for both settings: resolve again when next needed */
void
table_list_assign(const char *newval, void *extra)
{
	lists_valid = false;
}

static void
names_changed_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	lists_valid = false;
}

/* Resolve one list's names to OIDs, warning once per value of the setting */
static void
resolve_list(TableList *list)
{
	const char *value = *list->value != NULL ? *list->value : "";
	bool		warn;
	List	   *names = NIL;
	List	   *relids = NIL;
	ListCell   *lc;
	MemoryContext oldcxt;

	warn = list->resolved_value == NULL ||
		strcmp(list->resolved_value, value) != 0;
	if (warn)
	{
		if (list->resolved_value != NULL)
			pfree(list->resolved_value);
		list->resolved_value = MemoryContextStrdup(TopMemoryContext, value);
	}

	(void) parse_table_list(value, &names);
	foreach(lc, names)
	{
		List	   *parts = (List *) lfirst(lc);
		RangeVar   *rv = makeRangeVarFromNameList(parts);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid))
			relids = lappend_oid(relids, relid);
		else if (warn)
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" in %s does not exist, ignored",
							NameListToString(parts), list->setting_name)));
	}

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	list_free(list->relids);
	list->relids = list_copy(relids);
	MemoryContextSwitchTo(oldcxt);
}

static void
resolve_lists(void)
{
	HASHCTL		ctl;

	if (listings == NULL)
	{
		/* first use: from now on, name changes make us resolve again */
		CacheRegisterSyscacheCallback(RELNAMENSP, names_changed_callback,
									  (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACENAME, names_changed_callback,
									  (Datum) 0);
	}
	else
		hash_destroy(listings);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(RelationListing);
	listings = hash_create("cachealot table listings", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS);

	/* the callbacks may fire while we resolve: then resolve again next time */
	lists_valid = true;
	resolve_list(&exclude_list);
	resolve_list(&include_list);
}

/* Is this relation, or one of its ancestors if it is a partition, listed? */
static bool
relation_is_listed(Oid relid, List *listed)
{
	List	   *ancestors;
	ListCell   *lc;
	bool		found = false;

	if (list_member_oid(listed, relid))
		return true;
	if (listed == NIL || !get_rel_relispartition(relid))
		return false;
	ancestors = get_partition_ancestors(relid);
	foreach(lc, ancestors)
		if (list_member_oid(listed, lfirst_oid(lc)))
			found = true;
	list_free(ancestors);
	return found;
}

/*
 * Why a result reading these relations may not be cached under the table
 * lists, or NULL.  Views count as what they read: only tables,
 * partitioned tables and materialized views are judged.
 */
const char *
table_lists_bypass_reason(List *relationOids)
{
	ListCell   *lc;
	bool		excluding = setting_is_set(cachealot_exclude_tables);
	bool		including = setting_is_set(cachealot_include_tables);

	if (!excluding && !including)
		return NULL;
	if (!IsTransactionState())
		return NULL;
	if (!lists_valid)
		resolve_lists();

	foreach(lc, relationOids)
	{
		Oid			relid = lfirst_oid(lc);
		RelationListing *listing;
		bool		found;

		listing = hash_search(listings, &relid, HASH_ENTER, &found);
		if (!found)
		{
			char		relkind = get_rel_relkind(relid);
			bool		judged = relkind != RELKIND_VIEW;

			listing->excluded = judged &&
				relation_is_listed(relid, exclude_list.relids);
			listing->included = !judged || !including ||
				relation_is_listed(relid, include_list.relids);
		}
		if (listing->excluded)
			return "table excluded";
		if (!listing->included)
			return "table not in cachealot.include_tables";
	}
	return NULL;
}
