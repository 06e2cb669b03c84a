-- Create index "callleg_call_id" to table: "call_legs"
CREATE INDEX "callleg_call_id" ON "call_legs" ("call_id");
-- Create index "queueattempt_call_id" to table: "queue_attempts"
CREATE INDEX "queueattempt_call_id" ON "queue_attempts" ("call_id");
-- Create index "queuevisit_call_id" to table: "queue_visits"
CREATE INDEX "queuevisit_call_id" ON "queue_visits" ("call_id");
