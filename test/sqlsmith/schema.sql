-- schema.sql: what sqlsmith fuzzes (test/sqlsmith/run.sh).  Run as the
-- fuzzing role, which owns it all.  Small tables (sqlsmith joins freely)
-- of many types, NULLs, TOASTed values, a partitioned table, inheritance,
-- a view, a materialized view.

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);

CREATE TABLE kinds (
    id int PRIMARY KEY,
    i2 smallint, i8 bigint, num numeric(12, 3), f4 real, f8 float8,
    t text, vc varchar(20), ch char(4), b bool,
    d date, ts timestamp, tstz timestamptz, iv interval, tm time,
    js json, jb jsonb, ba bytea, u uuid, ip inet, mc macaddr,
    arr int[], tarr text[], rng int4range, trng tstzrange,
    m mood, p pair, pi posint, pt point, tv tsvector, x xml, bits bit varying(16)
);
INSERT INTO kinds
SELECT g, (g % 100)::smallint, g::bigint * 1000003, g * 1.25, g / 3.0, g / 7.0,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'text ' || g END,
       'vc' || g, lpad(g::text, 4, '0'), g % 2 = 0,
       date '2020-01-01' + g, timestamp '2020-01-01 00:00' + g * interval '1 hour',
       timestamptz '2020-01-01 00:00+00' + g * interval '1 day',
       g * interval '1 minute', time '00:00' + g * interval '1 minute',
       json_build_object('g', g, 'a', json_build_array(g, g + 1)),
       jsonb_build_object('g', g, 's', 'v' || g),
       decode(md5(g::text), 'hex'), md5(g::text)::uuid,
       ('10.0.' || (g % 256) || '.1')::inet, ('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr,
       ARRAY[g, g + 1, NULL], ARRAY['a' || g, NULL],
       int4range(g, g + 10), tstzrange(timestamptz '2020-01-01+00' + g * interval '1 day', NULL),
       (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::mood, ROW(g, 'p' || g)::pair, g,
       point(g, -g), to_tsvector('simple', 'word' || g || ' other'),
       xmlelement(name e, g), (g % 65536)::bit(16)::varbit
FROM generate_series(1, 60) g;
INSERT INTO kinds (id) VALUES (0);   -- a row of NULLs

-- wide values stored out of line (TOAST): a hit must replay them
CREATE TABLE docs (id int PRIMARY KEY, kind_id int REFERENCES kinds, body text, meta jsonb);
INSERT INTO docs
SELECT g, g % 60 + 1,
       (SELECT string_agg(md5(g::text || '.' || r::text), '') FROM generate_series(1, 300) r),
       jsonb_build_object('len', g, 'tags', jsonb_build_array('x', g))
FROM generate_series(1, 20) g;

CREATE TABLE orders (id int, region text NOT NULL, amount numeric, placed date)
    PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
CREATE TABLE orders_rest PARTITION OF orders DEFAULT PARTITION BY RANGE (placed);
CREATE TABLE orders_rest_old PARTITION OF orders_rest FOR VALUES FROM (MINVALUE) TO ('2021-01-01');
CREATE TABLE orders_rest_new PARTITION OF orders_rest FOR VALUES FROM ('2021-01-01') TO (MAXVALUE);
INSERT INTO orders
SELECT g, (ARRAY['eu', 'us', 'ap', 'af'])[g % 4 + 1], g * 2.5, date '2020-06-01' + g * 7
FROM generate_series(1, 120) g;

CREATE TABLE animals (id int, name text);
CREATE TABLE dogs (breed text) INHERITS (animals);
INSERT INTO animals VALUES (1, 'generic'), (2, NULL);
INSERT INTO dogs VALUES (3, 'rex', 'collie'), (4, 'fido', NULL);

CREATE VIEW kinds_docs AS
SELECT k.id, k.t, k.m, d.meta, length(d.body) AS body_len
FROM kinds k LEFT JOIN docs d ON d.kind_id = k.id;

CREATE MATERIALIZED VIEW order_totals AS
SELECT region, count(*) AS n, sum(amount) AS total FROM orders GROUP BY region;

ANALYZE kinds, docs, orders, animals, dogs, order_totals;
