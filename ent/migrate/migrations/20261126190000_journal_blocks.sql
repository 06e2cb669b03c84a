-- Hand-written (ent does not model partitioned tables): the AMI journal as blocks, one
-- row per write batch of a server instead of one row per event. See
-- ami/collector/doc.go and block.go; issue #4.
--
-- Why: COPY of one row per event topped out at ~95k rows/s on the target machine, below
-- the 100k events/s ingestion target on its own. A block is the batch's events as
-- length-prefixed frames of their wire text (ami/collector/block.go documents the
-- format), compressed by the collector (codec 's2'; 'zstd', 'gzip' and 'raw' are read too),
-- with the seq and time ranges the replay, rebuild and retention need as columns.
--
-- Blocks of one server never overlap in seq and are written in seq order, so ordering
-- by last_seq is seq order. A block lives in the day partition of its first event's
-- receive time (received_from); retention drops whole days, as before. The default
-- partition only catches blocks outside the created range (a clock jump) so that an
-- insert never fails; it is expected to stay empty.
CREATE TABLE "ami_journal_blocks" (
  "server_id" bigint NOT NULL,
  "first_seq" bigint NOT NULL,
  "last_seq" bigint NOT NULL,
  "events" integer NOT NULL,
  "received_from" timestamptz NOT NULL,
  "received_to" timestamptz NOT NULL,
  -- min and max event time (Asterisk's Timestamp, else the receive time) in the block:
  -- Rebuild finds the blocks of a period with them.
  "event_from" timestamptz NOT NULL,
  "event_to" timestamptz NOT NULL,
  "codec" text NOT NULL,
  "data" bytea NOT NULL,
  CONSTRAINT "ami_journal_blocks_seq_range" CHECK ("first_seq" <= "last_seq" AND "events" > 0)
) PARTITION BY RANGE ("received_from");
CREATE TABLE "ami_journal_blocks_default" PARTITION OF "ami_journal_blocks" DEFAULT;
-- Replay reads (server_id, last_seq >= checkpoint) in order; the start reads max(last_seq).
CREATE INDEX "ami_journal_blocks_server_seq" ON "ami_journal_blocks" ("server_id", "last_seq");
-- Rebuild looks for the blocks that overlap a period.
CREATE INDEX "ami_journal_blocks_server_time" ON "ami_journal_blocks" ("server_id", "event_to");

-- Existing data: the one-row-per-event journal is converted here, in the database, into
-- uncompressed ('raw') blocks of up to 1,000 consecutive events of a server, in the
-- same frame format the collector writes (the name is always written, since old rows
-- carry it as a column), and the old table is dropped. One read path stays in the code
-- and retention goes on working on the converted days. Cost: one pass over the old
-- table, linear in its size; it existed for a few hours before this migration, so that
-- is at most some millions of rows. PostgreSQL compresses the raw blocks itself
-- (TOAST), and they age out with the retention like any other day.
DO $$
DECLARE
  d date;
BEGIN
  FOR d IN SELECT DISTINCT (received_at AT TIME ZONE 'UTC')::date FROM ami_journal ORDER BY 1 LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF ami_journal_blocks FOR VALUES FROM (%L) TO (%L)',
      'ami_journal_blocks_' || to_char(d, 'YYYYMMDD'),
      to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
  END LOOP;
END $$;

INSERT INTO "ami_journal_blocks" ("server_id", "first_seq", "last_seq", "events", "received_from", "received_to",
  "event_from", "event_to", "codec", "data")
SELECT "server_id", min("seq"), max("seq"), count(*)::integer, min("received_at"), max("received_at"),
  min("event_time"), max("event_time"), 'raw',
  string_agg(
    convert_to(
      "seq"::text || ' ' ||
      ((extract(epoch FROM "received_at") * 1000000)::bigint * 1000)::text || ' ' ||
      ((extract(epoch FROM "event_time") * 1000000)::bigint * 1000)::text || ' ' ||
      (CASE WHEN "stamped" THEN '1' ELSE '0' END) || ' ' ||
      octet_length("fields")::text || ' ' || "name" || E'\n' || "fields" || E'\n', 'UTF8'),
    ''::bytea ORDER BY "seq")
FROM "ami_journal"
GROUP BY "server_id", ("seq" - 1) / 1000;

DROP TABLE "ami_journal";
