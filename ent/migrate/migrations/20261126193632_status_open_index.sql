-- Create index "operatorstatuschange_open" to table: "operator_status_changes"
CREATE INDEX "operatorstatuschange_open" ON "operator_status_changes" ("operator_id", "queue") WHERE ("to" IS NULL);
