-- floor: one round trip and nothing else; no table, so never cached.
SELECT 1;
