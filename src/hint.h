/*-------------------------------------------------------------------------
 *
 * hint.h
 *		Per-statement hints in a leading comment (see hint.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_HINT_H
#define CACHEALOT_HINT_H

extern bool statement_hint_says_off(const char *text, int len);

#endif							/* CACHEALOT_HINT_H */
