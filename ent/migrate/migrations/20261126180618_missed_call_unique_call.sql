-- Create index "missedcall_call_id" to table: "missed_calls"
CREATE UNIQUE INDEX "missedcall_call_id" ON "missed_calls" ("call_id");
