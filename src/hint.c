/*-------------------------------------------------------------------------
 *
 * hint.c
 *		Per-statement hints: a comment at the start of a statement,
 *		slash-star-plus "cachealot(off)" star-slash, sends that statement
 *		past the cache.
 *
 * Only comments before the statement's first token, or right after its
 * first word (SELECT slash-star-plus ... : where a statement's leading
 * comment does not survive, as in PREPARE ... AS and PL/pgSQL), count, so
 * the same characters inside a string constant or a later comment mean
 * nothing.  The statement of a PREPARE keeps the PREPARE's text: there,
 * the statement starts after its AS.
 * A hint comment starts with slash, star, plus (as pg_hint_plan's do; it
 * may hold theirs too); inside it, words other than cachealot(...) are
 * ignored, and so is cachealot(...) with any argument but off (case does
 * not matter, blanks are allowed around the parenthesis and the argument).
 *
 * Pure functions of the text: no state, no lock.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parser/scansup.h"

#include "hint.h"
#include "key.h"

static inline const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && scanner_isspace(*p))
		p++;
	return p;
}

/* Does "word" (lower case ASCII letters) start at p, case insensitively? */
static inline bool
starts_with_word(const char *p, const char *end, const char *word)
{
	for (; *word != '\0'; p++, word++)
		if (p >= end || (*p | 0x20) != *word)
			return false;
	return true;
}

/* Is this word, whole, at p? */
static inline bool
is_word(const char *p, const char *end, const char *word)
{
	size_t		len = strlen(word);

	return starts_with_word(p, end, word) &&
		(p + len >= end || !text_is_word_char((unsigned char) p[len]));
}

/*
 * In "PREPARE name [(types)] AS statement", p at PREPARE: where the
 * statement starts, after the first word AS (no type name is AS), or the
 * end.
 */
static const char *
after_word_as(const char *p, const char *end)
{
	for (p += strlen("prepare"); p < end; p++)
		if ((*p == 'a' || *p == 'A') &&
			(scanner_isspace(p[-1]) || p[-1] == ')') && is_word(p, end, "as"))
			return p + 2;
	return end;
}

/* Does the body of one hint comment, [start, end), say cachealot(off)? */
static bool
hint_body_says_off(const char *start, const char *end)
{
	const char *p;

	for (p = start; p < end; p++)
	{
		const char *q;

		/* a word of its own: not the end of another one */
		if ((p > start && text_is_word_char((unsigned char) p[-1])) ||
			!starts_with_word(p, end, "cachealot"))
			continue;
		q = skip_blanks(p + strlen("cachealot"), end);
		if (q >= end || *q != '(')
			continue;
		q = skip_blanks(q + 1, end);
		if (!starts_with_word(q, end, "off"))
			continue;
		q = skip_blanks(q + strlen("off"), end);
		if (q < end && *q == ')')
			return true;
	}
	return false;
}

/*
 * Does a hint comment before the first token of this statement text, or
 * right after its first word, say cachealot(off)?  Comments nest, as
 * PostgreSQL's do; "--" comments are skipped too.
 */
bool
statement_hint_says_off(const char *text, int len)
{
	const char *p = text;
	const char *end = text + len;
	bool		first_word_seen = false;

	for (;;)
	{
		p = skip_blanks(p, end);
		if (p + 1 < end && p[0] == '-' && p[1] == '-')
		{
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		if (p + 1 < end && p[0] == '/' && p[1] == '*')
		{
			bool		hint = p + 2 < end && p[2] == '+';
			const char *body = p + 2;
			int			depth = 1;

			p += 2;
			while (p < end && depth > 0)
			{
				if (p + 1 < end && p[0] == '/' && p[1] == '*')
				{
					depth++;
					p += 2;
				}
				else if (p + 1 < end && p[0] == '*' && p[1] == '/')
				{
					depth--;
					p += 2;
				}
				else
					p++;
			}
			if (depth > 0)
				return false;	/* unterminated: the parser said so */
			if (hint && hint_body_says_off(body, p - 2))
				return true;
			continue;
		}
		if (first_word_seen || p >= end ||
			!text_is_word_char((unsigned char) *p))
			return false;
		if ((*p == 'p' || *p == 'P') && is_word(p, end, "prepare"))
		{
			p = after_word_as(p, end);
			continue;
		}
		while (p < end && text_is_word_char((unsigned char) *p))
			p++;
		first_word_seen = true;
	}
}
