/*-------------------------------------------------------------------------
 *
 * key.c
 *		Building the lookup key of one execution.
 *
 * Two executions may share a cached result only if they are the same query
 * with the same inputs, so the key holds, and a hit compares in full:
 *
 *	- the database and the current user (SET ROLE, SECURITY DEFINER and
 *	  role-targeted row security policies all follow GetUserId());
 *	- every setting that changes how literals are read or how immutable
 *	  functions format values;
 *	- the effective search path as namespace OIDs, and, in a session with a
 *	  temporary namespace, that namespace and the search_path setting that
 *	  says where it is searched (fetch_search_path_array leaves it out);
 *	- the statement's own source text;
 *	- what the text resolved to: the query id, core's summary of the
 *	  analysed statement's relations, functions, operators, types and
 *	  collations, and the values of its constants that name catalog objects
 *	  ('t'::regclass), which the query id leaves out, and of those whose
 *	  value parse analysis read under the settings of that moment
 *	  ('01/02/2024'::date under DateStyle; eligibility.c's
 *	  add_analysed_value), which need not be the settings of the
 *	  execution.  The same text can mean other objects (two SQL functions
 *	  whose bodies share their text but not their parameter order, a plan
 *	  analysed before a new overload appeared, a SQL function's statement
 *	  analysed before an earlier one changed search_path) or other values;
 *	  together with the text, these tell them apart;
 *	- the bound parameters, by type and binary value;
 *	- the result row type (type, typmod, collation of each column).
 *
 * The settings come first, so that a result fetched in several runs can
 * check before it is stored that they did not change meanwhile
 * (key_settings_unchanged).
 *
 * The 64-bit hash of the key only picks a bucket; it is never trusted alone.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/keywords.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_expr.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "parser/scansup.h"
#include "parser/gram.h"	/* after scanner.h, which it needs */
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/expandeddatum.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/xml.h"

#include "key.h"

/*
 * Special datetime inputs are resolved when the text is parsed, so the same
 * text means a new value each time.
 */
static const char *const frozen_words[] = {"now", "today", "tomorrow", "yesterday"};

static bool
string_has_frozen_word(const char *str)
{
	int			i;

	for (i = 0; i < lengthof(frozen_words); i++)
	{
		int			wlen = strlen(frozen_words[i]);
		const char *p;

		for (p = str; *p; p++)
			if (pg_strncasecmp(p, frozen_words[i], wlen) == 0)
				return true;
	}
	return false;
}

/*
 * Could the lexer find a string constant here?  Every one starts with a
 * quote (plain, E'', U&'', B'', X'') or a dollar quote ($$ or $tag$, never
 * $ and a digit, which is a parameter).  Most statements in the wild have
 * neither, and then need no lexing.
 */
static bool
text_may_hold_string(const char *text, int len)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		if (text[i] == '\'')
			return true;
		if (text[i] == '$' && (i + 1 >= len || !isdigit((unsigned char) text[i + 1])))
			return true;
	}
	return false;
}

/*
 * May a result of this statement text be stored?  Not when one of its
 * string constants holds a special datetime input.  The constants are read
 * with the core lexer, as the parser read them, because the lexer builds
 * them from more than the literal text shows: string continuation across
 * lines, escape strings, dollar quoting.  Unicode-escape strings are decoded
 * later by the grammar, so any of them refuses the statement, and so does a
 * backslash anywhere: its meaning depends on settings that may have changed
 * since the statement was parsed, and the lexer could fail on it.
 *
 * Only storing needs the check: a statement never stored is never served.
 */
bool
key_text_is_storable(const char *text, int len)
{
	char	   *copy;
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE val;
	YYLTYPE		loc;
	int			token;
	bool		storable = true;

	if (memchr(text, '\\', len) != NULL)
		return false;
	if (!text_may_hold_string(text, len))
		return true;

	copy = pnstrdup(text, len);
	scanner = scanner_init(copy, &extra, &ScanKeywords, ScanKeywordTokens);
	while (storable && (token = core_yylex(&val, &loc, scanner)) != 0)
	{
		if (token == USCONST)
			storable = false;
		else if (token == SCONST && string_has_frozen_word(val.str))
			storable = false;
	}
	scanner_finish(scanner);
	pfree(copy);
	return storable;
}

static void
append_int(StringInfo buf, int64 v)
{
	appendBinaryStringInfo(buf, (const char *) &v, sizeof(v));
}

static void
append_bytes(StringInfo buf, const char *data, int len)
{
	append_int(buf, len);
	appendBinaryStringInfo(buf, data, len);
}

static void
append_string(StringInfo buf, const char *s)
{
	append_bytes(buf, s ? s : "", s ? strlen(s) : 0);
}

/* Append a datum's value so that equal bytes mean an equal value */
void
key_append_datum(StringInfo buf, Oid type, Datum value)
{
	int16		typlen;
	bool		typbyval;

	get_typlenbyval(type, &typlen, &typbyval);
	if (typbyval)
		appendBinaryStringInfo(buf, (const char *) &value, sizeof(Datum));
	else if (typlen == -1)
	{
		struct varlena *v = (struct varlena *) DatumGetPointer(value);

		if (VARATT_IS_EXTERNAL_EXPANDED(v))
		{
			ExpandedObjectHeader *eoh = DatumGetEOHP(value);
			Size		flat = EOH_get_flat_size(eoh);
			char	   *tmp = palloc(flat);

			EOH_flatten_into(eoh, tmp, flat);
			append_bytes(buf, tmp, flat);
			pfree(tmp);
		}
		else
		{
			struct varlena *plain = pg_detoast_datum_packed(v);

			append_bytes(buf, VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain));
			if (plain != v)
				pfree(plain);
		}
	}
	else if (typlen == -2)
		append_string(buf, DatumGetCString(value));
	else
		append_bytes(buf, DatumGetPointer(value), typlen);
}

static void
append_search_path(StringInfo buf)
{
	Oid			local[32];
	Oid		   *oids = local;
	int			n;
	Oid			temp_namespace;
	Oid			temp_toast_namespace;

	n = fetch_search_path_array(oids, lengthof(local));
	if (n > lengthof(local))
	{
		oids = palloc(sizeof(Oid) * n);
		n = fetch_search_path_array(oids, n);
	}
	append_bytes(buf, (const char *) oids, sizeof(Oid) * n);
	if (oids != local)
		pfree(oids);

	/*
	 * Names may resolve to the session's temporary objects (types and
	 * relations, first unless search_path puts pg_temp elsewhere): which
	 * namespace, and the setting that says where it is searched.
	 */
	GetTempNamespaceState(&temp_namespace, &temp_toast_namespace);
	append_int(buf, temp_namespace);
	if (OidIsValid(temp_namespace))
		append_string(buf, namespace_search_path);
}

/*
 * The fixed-size part of the key: who runs it where, and the settings that
 * change how literals are read or immutable functions format values.
 * Built whole and appended at once; zeroed first, so padding compares equal.
 */
typedef struct KeySettings
{
	Oid			dbid;
	Oid			userid;
	int32		date_style;
	int32		date_order;
	int32		interval_style;
	int32		xml_option;
	int32		xml_binary;
	int32		extra_float_digits;
	int32		bytea_output;
	bool		standard_conforming_strings;
	bool		transform_null_equals;
	bool		array_nulls;
	bool		quote_all_identifiers;
	bool		row_security;
} KeySettings;

/*
 * The timezone_abbreviations setting.  PostgreSQL exports no variable for
 * it, and looking it up by name costs a search of every setting; the
 * setting's own variable is found once (built-in settings never move).
 */
static const char *
timezone_abbreviations(void)
{
	static char **variable = NULL;

	if (variable == NULL)
	{
		struct config_generic **settings = get_guc_variables();
		int			n = GetNumConfigOptions();
		int			i;

		for (i = 0; i < n; i++)
			if (settings[i]->vartype == PGC_STRING &&
				strcmp(settings[i]->name, "timezone_abbreviations") == 0)
				variable = ((struct config_string *) settings[i])->variable;
		if (variable == NULL)
			return GetConfigOption("timezone_abbreviations", true, false);
	}
	return *variable;
}

static void
append_settings(StringInfo buf)
{
	KeySettings ks;

	memset(&ks, 0, sizeof(ks));
	ks.dbid = MyDatabaseId;
	ks.userid = GetUserId();
	ks.date_style = DateStyle;
	ks.date_order = DateOrder;
	ks.interval_style = IntervalStyle;
	ks.xml_option = xmloption;
	ks.xml_binary = xmlbinary;
	ks.extra_float_digits = extra_float_digits;
	ks.bytea_output = bytea_output;
	ks.standard_conforming_strings = standard_conforming_strings;
	ks.transform_null_equals = Transform_null_equals;
	ks.array_nulls = Array_nulls;
	ks.quote_all_identifiers = quote_all_identifiers;
	ks.row_security = row_security;
	appendBinaryStringInfo(buf, (const char *) &ks, sizeof(ks));

	append_string(buf, pg_get_timezone_name(session_timezone));
	append_string(buf, timezone_abbreviations());
}

static void
append_params(StringInfo buf, ParamListInfo params)
{
	int			i;

	if (params == NULL)
	{
		append_int(buf, 0);
		return;
	}
	append_int(buf, params->numParams);
	for (i = 0; i < params->numParams; i++)
	{
		ParamExternData workspace;
		ParamExternData *prm;

		if (params->paramFetch != NULL)
			prm = params->paramFetch(params, i + 1, false, &workspace);
		else
			prm = &params->params[i];

		if (prm == NULL || !OidIsValid(prm->ptype))
		{
			append_int(buf, -1);
			continue;
		}
		append_int(buf, prm->ptype);
		append_int(buf, prm->isnull);
		if (!prm->isnull)
			key_append_datum(buf, prm->ptype, prm->value);
	}
}

/* Type, typmod and collation of each result column, appended at once */
static void
append_result_type(StringInfo buf, List *tlist)
{
	int32	   *cols = palloc(sizeof(int32) * 3 * Max(list_length(tlist), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		cols[n++] = (int32) exprType((Node *) tle->expr);
		cols[n++] = exprTypmod((Node *) tle->expr);
		cols[n++] = (int32) exprCollation((Node *) tle->expr);
	}
	append_bytes(buf, (const char *) cols, sizeof(int32) * n);
	pfree(cols);
}

/*
 * The statement's own slice of a source string that may hold several:
 * 'location' and 'stmt_len' as the parser set them in the Query and the
 * planner copied them to the PlannedStmt.  False if it has none.
 */
bool
key_statement_text(const char *src, int location, int stmt_len,
				   const char **text, int *len)
{
	int			srclen;

	if (src == NULL)
		return false;
	srclen = strlen(src);
	if (location < 0)
		location = 0;
	if (location > srclen)
		return false;
	*len = stmt_len > 0 ? Min(stmt_len, srclen - location) : srclen - location;
	/* statements after the first in a string start with the separator's blanks */
	while (*len > 0 && scanner_isspace(src[location]))
	{
		location++;
		(*len)--;
	}
	*text = src + location;
	return *len > 0;
}

/*
 * Build the full key of an execution of the statement text[0..len) with
 * these parameters, whose result columns are the non-junk entries of
 * 'tlist' (the plan's, or a stand-in plan's copy of the Query's).
 */
void
key_build(StringInfo buf, const char *text, int len, uint64 queryId,
		  List *resolved_oids, ParamListInfo params, List *tlist)
{
	ListCell   *lc;

	append_settings(buf);
	append_search_path(buf);
	append_bytes(buf, text, len);
	append_int(buf, (int64) queryId);
	append_int(buf, list_length(resolved_oids));
	foreach(lc, resolved_oids)
		append_int(buf, lfirst_oid(lc));
	append_params(buf, params);
	append_result_type(buf, tlist);
}

/*
 * Are the settings the key was built under still the session's?  A result
 * fetched in several runs (a cursor, SPI fetches) is computed partly after
 * whatever ran between them, SET included.  (The search path is not among
 * them: names were resolved when the statement was analysed.)
 */
bool
key_settings_unchanged(const char *key, uint32 key_len)
{
	StringInfoData now;
	bool		unchanged;

	initStringInfo(&now);
	append_settings(&now);
	unchanged = now.len <= key_len && memcmp(now.data, key, now.len) == 0;
	pfree(now.data);
	return unchanged;
}

uint64
key_hash(const char *key, uint32 len)
{
	return hash_bytes_extended((const unsigned char *) key, len, 0);
}
