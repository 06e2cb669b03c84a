-- Hand-written (ent does not model partitioned tables): the AMI event journal and the
-- collector's per-server checkpoints. See ami/collector/doc.go.

-- ami_journal keeps every raw event a collector received, in receive order per server.
-- fields is the event as it came off the wire: its "Key: Value" lines, LF-separated, in
-- order, repeated keys (ChanVariable, duplicated UserEvent headers) and key casing kept.
-- AMI lines cannot contain a line break, so this is lossless. It was measured against
-- text[] of alternating keys and values: 40 % more rows/s through COPY (the server does
-- not parse an array per row), and it reads like a capture file in psql. Nothing
-- queries inside it: name and the times are columns.
-- Partitioned by day on received_at (which grows with seq per server); the collector
-- creates partitions ahead and drops those older than the retention. The default
-- partition only catches rows outside the created range (a clock jump) so that an
-- insert never fails; it is expected to stay empty.
CREATE TABLE "ami_journal" (
  "server_id" bigint NOT NULL,
  "seq" bigint NOT NULL,
  "received_at" timestamptz NOT NULL,
  "event_time" timestamptz NOT NULL,
  "stamped" boolean NOT NULL DEFAULT false,
  "name" text NOT NULL,
  "fields" text NOT NULL
) PARTITION BY RANGE ("received_at");
CREATE TABLE "ami_journal_default" PARTITION OF "ami_journal" DEFAULT;
-- Replay reads (server_id, seq >= checkpoint) in seq order; rebuild reads a period.
CREATE INDEX "ami_journal_server_seq" ON "ami_journal" ("server_id", "seq");
CREATE INDEX "ami_journal_server_time" ON "ami_journal" ("server_id", "event_time");

-- ami_checkpoints: per server, the oldest journal seq a restart must replay from.
-- Written in the same transaction as the journal rows and calls it covers.
CREATE TABLE "ami_checkpoints" (
  "server_id" bigint NOT NULL PRIMARY KEY,
  "seq" bigint NOT NULL,
  "updated_at" timestamptz NOT NULL DEFAULT now()
);
