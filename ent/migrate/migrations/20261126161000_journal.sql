-- Hand-written (ent does not model partitioned tables): the AMI event journal and the
-- collector's per-server checkpoints. See ami/collector/doc.go.

-- ami_journal keeps every raw event a collector received, in receive order per server.
-- fields holds the event's lines as alternating keys and values (text[]), so wire order
-- and repeated keys (ChanVariable, duplicated UserEvent headers) survive; text[] is
-- cheaper to COPY and to read back than a jsonb array of pairs and needs no parsing
-- into a document the database never queries inside.
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
  "fields" text[] NOT NULL
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
