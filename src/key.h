/*-------------------------------------------------------------------------
 *
 * key.h
 *		The lookup key of one execution (see key.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_KEY_H
#define CACHEALOT_KEY_H

#include "lib/stringinfo.h"
#include "nodes/params.h"
#include "nodes/pg_list.h"

/*
 * May this byte of statement text be part of an identifier, a keyword or
 * a number?  (Bytes of multibyte characters always may.)
 */
static inline bool
text_is_word_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

extern bool key_text_is_storable(const char *text, int len);
extern bool key_statement_text(const char *src, int location, int stmt_len,
							   const char **text, int *len);
extern void key_build(StringInfo buf, const char *text, int len,
					  uint64 queryId, List *resolved_oids,
					  ParamListInfo params, List *tlist);
extern bool key_settings_unchanged(const char *key, uint32 key_len);
extern void key_append_datum(StringInfo buf, Oid type, Datum value);
extern uint64 key_hash(const char *key, uint32 len);

#endif							/* CACHEALOT_KEY_H */
