-- Hand-written: the hourly rollup behind the summary report (internal/report).
--
-- report_call_facts(...) is the one definition of what a call counts for in the summary;
-- the trigger below and the report's raw-row path both use it, so rollup hours and the
-- raw edges of a period can never disagree.
--
-- A call is attributed to the hour of its start (UTC, whatever the session's TimeZone), to the last queue it visited
-- (where it was answered or lost; calls.queues holds the queue numbers in visit order),
-- and to the operator who answered it or placed it.

-- The parameters are calls' columns (not the calls row type: a function over the row
-- type would pin the table, and the migration tooling must be able to drop it).
CREATE FUNCTION report_call_facts(
  p_start timestamptz, p_server bigint, p_queues jsonb, p_answered_by bigint, p_caller_operator bigint,
  p_trunk bigint, p_type varchar, p_status varchar, p_missed_reason varchar,
  p_wait bigint, p_talk bigint, p_hold bigint, p_transferred boolean)
RETURNS TABLE (
  hour timestamptz, server_id bigint, queue_id bigint, operator_id bigint, trunk_id bigint, type varchar,
  calls bigint, answered bigint, missed bigint, abandoned bigint, sl_answered bigint,
  wait_sum bigint, wait_max bigint, talk_sum bigint, hold_sum bigint, transferred bigint
)
LANGUAGE sql STABLE AS $$
  SELECT date_trunc('hour', p_start, 'UTC'), p_server, coalesce(q.id, 0),
         coalesce(p_answered_by, p_caller_operator, 0), coalesce(p_trunk, 0), p_type,
         1::bigint, (p_status = 'answered')::int::bigint, (p_status = 'missed')::int::bigint,
         (p_status = 'missed' AND coalesce(p_missed_reason, '') = 'abandoned')::int::bigint,
         (p_status = 'answered' AND p_wait <= coalesce(q.sl_threshold_seconds, 20))::int::bigint,
         p_wait, p_wait, p_talk, p_hold, p_transferred::int::bigint
  FROM (SELECT 1) one
  LEFT JOIN queues q ON q.server_id = p_server AND q.number = p_queues->>-1
$$;

CREATE TABLE report_call_hours (
  hour        timestamptz NOT NULL,
  server_id   bigint NOT NULL,
  queue_id    bigint NOT NULL, -- 0: no queue
  operator_id bigint NOT NULL, -- 0: no operator
  trunk_id    bigint NOT NULL, -- 0: no trunk
  type        varchar NOT NULL,
  calls       bigint NOT NULL,
  answered    bigint NOT NULL,
  missed      bigint NOT NULL,
  abandoned   bigint NOT NULL,
  sl_answered bigint NOT NULL,
  wait_sum    bigint NOT NULL,
  wait_max    bigint NOT NULL,
  talk_sum    bigint NOT NULL,
  hold_sum    bigint NOT NULL,
  transferred bigint NOT NULL,
  PRIMARY KEY (hour, server_id, queue_id, operator_id, trunk_id, type)
);

-- The trigger adds the new row and removes the old one. Removing the call that held an
-- hour's longest wait recomputes that maximum from the calls, so the rollup stays exact
-- under the collector's ON CONFLICT updates and under deletes. The session setting
-- linkage.report_rollup = 'off' lets a bulk load (linkage seed) skip the per-row work and
-- rebuild the touched hours once at the end (report_rollup_rebuild).
CREATE FUNCTION report_rollup_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  c record;
  f record;
BEGIN
  IF current_setting('linkage.report_rollup', true) = 'off' THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    c := OLD;
    SELECT * INTO f FROM report_call_facts(c.start, c.server_id, c.queues, c.answered_by_id, c.caller_operator_id,
      c.trunk_id, c.type, c.status, c.missed_reason, c.wait_seconds, c.talk_seconds, c.hold_seconds, c.transferred);
    UPDATE report_call_hours h SET
      calls = h.calls - 1, answered = h.answered - f.answered, missed = h.missed - f.missed,
      abandoned = h.abandoned - f.abandoned, sl_answered = h.sl_answered - f.sl_answered,
      wait_sum = h.wait_sum - f.wait_sum, talk_sum = h.talk_sum - f.talk_sum,
      hold_sum = h.hold_sum - f.hold_sum, transferred = h.transferred - f.transferred,
      wait_max = CASE WHEN f.wait_max < h.wait_max THEN h.wait_max ELSE coalesce((
        SELECT max(x.wait_max) FROM calls o, LATERAL report_call_facts(o.start, o.server_id, o.queues, o.answered_by_id,
          o.caller_operator_id, o.trunk_id, o.type, o.status, o.missed_reason, o.wait_seconds, o.talk_seconds,
          o.hold_seconds, o.transferred) x
        WHERE o.start >= f.hour AND o.start < f.hour + interval '1 hour' AND o.id <> c.id
          AND x.server_id = f.server_id AND x.queue_id = f.queue_id AND x.operator_id = f.operator_id
          AND x.trunk_id = f.trunk_id AND x.type = f.type), 0) END
    WHERE h.hour = f.hour AND h.server_id = f.server_id AND h.queue_id = f.queue_id
      AND h.operator_id = f.operator_id AND h.trunk_id = f.trunk_id AND h.type = f.type;
    DELETE FROM report_call_hours h WHERE h.hour = f.hour AND h.server_id = f.server_id AND h.queue_id = f.queue_id
      AND h.operator_id = f.operator_id AND h.trunk_id = f.trunk_id AND h.type = f.type AND h.calls = 0;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    c := NEW;
    SELECT * INTO f FROM report_call_facts(c.start, c.server_id, c.queues, c.answered_by_id, c.caller_operator_id,
      c.trunk_id, c.type, c.status, c.missed_reason, c.wait_seconds, c.talk_seconds, c.hold_seconds, c.transferred);
    INSERT INTO report_call_hours AS h VALUES (f.hour, f.server_id, f.queue_id, f.operator_id, f.trunk_id, f.type,
      1, f.answered, f.missed, f.abandoned, f.sl_answered, f.wait_sum, f.wait_max, f.talk_sum, f.hold_sum, f.transferred)
    ON CONFLICT (hour, server_id, queue_id, operator_id, trunk_id, type) DO UPDATE SET
      calls = h.calls + 1, answered = h.answered + EXCLUDED.answered, missed = h.missed + EXCLUDED.missed,
      abandoned = h.abandoned + EXCLUDED.abandoned, sl_answered = h.sl_answered + EXCLUDED.sl_answered,
      wait_sum = h.wait_sum + EXCLUDED.wait_sum, wait_max = greatest(h.wait_max, EXCLUDED.wait_max),
      talk_sum = h.talk_sum + EXCLUDED.talk_sum, hold_sum = h.hold_sum + EXCLUDED.hold_sum,
      transferred = h.transferred + EXCLUDED.transferred;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER report_call_hours_maintain AFTER INSERT OR UPDATE OR DELETE ON calls
  FOR EACH ROW EXECUTE FUNCTION report_rollup_trigger();

-- report_queue_hours is the same rollup without the operator and trunk: a few dozen
-- rows per hour instead of one per busy (queue, operator, trunk), which is what a
-- summary by queue, type or server over months reads. A trigger on the fine rollup
-- keeps it, so it follows every change of the calls.
CREATE TABLE report_queue_hours (
  hour        timestamptz NOT NULL,
  server_id   bigint NOT NULL,
  queue_id    bigint NOT NULL,
  type        varchar NOT NULL,
  calls       bigint NOT NULL,
  answered    bigint NOT NULL,
  missed      bigint NOT NULL,
  abandoned   bigint NOT NULL,
  sl_answered bigint NOT NULL,
  wait_sum    bigint NOT NULL,
  wait_max    bigint NOT NULL,
  talk_sum    bigint NOT NULL,
  hold_sum    bigint NOT NULL,
  transferred bigint NOT NULL,
  PRIMARY KEY (hour, server_id, queue_id, type)
);

CREATE FUNCTION report_queue_hours_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('linkage.report_rollup', true) = 'off' THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE report_queue_hours q SET
      calls = q.calls - OLD.calls, answered = q.answered - OLD.answered, missed = q.missed - OLD.missed,
      abandoned = q.abandoned - OLD.abandoned, sl_answered = q.sl_answered - OLD.sl_answered,
      wait_sum = q.wait_sum - OLD.wait_sum, talk_sum = q.talk_sum - OLD.talk_sum,
      hold_sum = q.hold_sum - OLD.hold_sum, transferred = q.transferred - OLD.transferred
    WHERE q.hour = OLD.hour AND q.server_id = OLD.server_id AND q.queue_id = OLD.queue_id AND q.type = OLD.type;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO report_queue_hours AS q VALUES (NEW.hour, NEW.server_id, NEW.queue_id, NEW.type, NEW.calls, NEW.answered,
      NEW.missed, NEW.abandoned, NEW.sl_answered, NEW.wait_sum, NEW.wait_max, NEW.talk_sum, NEW.hold_sum, NEW.transferred)
    ON CONFLICT (hour, server_id, queue_id, type) DO UPDATE SET
      calls = q.calls + EXCLUDED.calls, answered = q.answered + EXCLUDED.answered, missed = q.missed + EXCLUDED.missed,
      abandoned = q.abandoned + EXCLUDED.abandoned, sl_answered = q.sl_answered + EXCLUDED.sl_answered,
      wait_sum = q.wait_sum + EXCLUDED.wait_sum, wait_max = greatest(q.wait_max, EXCLUDED.wait_max),
      talk_sum = q.talk_sum + EXCLUDED.talk_sum, hold_sum = q.hold_sum + EXCLUDED.hold_sum,
      transferred = q.transferred + EXCLUDED.transferred;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    -- The longest wait may have gone down: take it again from the fine rows of the key.
    UPDATE report_queue_hours q SET wait_max = coalesce((SELECT max(h.wait_max) FROM report_call_hours h
        WHERE h.hour = OLD.hour AND h.server_id = OLD.server_id AND h.queue_id = OLD.queue_id AND h.type = OLD.type), 0)
    WHERE q.hour = OLD.hour AND q.server_id = OLD.server_id AND q.queue_id = OLD.queue_id AND q.type = OLD.type
      AND q.wait_max <= OLD.wait_max;
    DELETE FROM report_queue_hours q
    WHERE q.hour = OLD.hour AND q.server_id = OLD.server_id AND q.queue_id = OLD.queue_id AND q.type = OLD.type AND q.calls = 0;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER report_queue_hours_maintain AFTER INSERT OR UPDATE OR DELETE ON report_call_hours
  FOR EACH ROW EXECUTE FUNCTION report_queue_hours_trigger();

-- report_rollup_rebuild recomputes both rollups for [p_from, p_to) (whole hours) from
-- the calls: after a bulk load, or after a queue's service-level threshold changed
-- (the rollup keeps the threshold that held when the call was written).
CREATE FUNCTION report_rollup_rebuild(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  v_from timestamptz := date_trunc('hour', p_from, 'UTC');
  v_to timestamptz := date_trunc('hour', p_to, 'UTC');
  v_setting text := current_setting('linkage.report_rollup', true);
BEGIN
  IF v_to < p_to THEN
    v_to := v_to + interval '1 hour';
  END IF;
  PERFORM set_config('linkage.report_rollup', 'off', true);
  DELETE FROM report_call_hours WHERE hour >= v_from AND hour < v_to;
  DELETE FROM report_queue_hours WHERE hour >= v_from AND hour < v_to;
  INSERT INTO report_call_hours
  SELECT f.hour, f.server_id, f.queue_id, f.operator_id, f.trunk_id, f.type,
         sum(f.calls), sum(f.answered), sum(f.missed), sum(f.abandoned), sum(f.sl_answered),
         sum(f.wait_sum), max(f.wait_max), sum(f.talk_sum), sum(f.hold_sum), sum(f.transferred)
  FROM calls c, LATERAL report_call_facts(c.start, c.server_id, c.queues, c.answered_by_id, c.caller_operator_id,
    c.trunk_id, c.type, c.status, c.missed_reason, c.wait_seconds, c.talk_seconds, c.hold_seconds, c.transferred) f
  WHERE c.start >= v_from AND c.start < v_to
  GROUP BY 1, 2, 3, 4, 5, 6;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO report_queue_hours
  SELECT hour, server_id, queue_id, type, sum(calls), sum(answered), sum(missed), sum(abandoned), sum(sl_answered),
         sum(wait_sum), max(wait_max), sum(talk_sum), sum(hold_sum), sum(transferred)
  FROM report_call_hours WHERE hour >= v_from AND hour < v_to
  GROUP BY 1, 2, 3, 4;
  PERFORM set_config('linkage.report_rollup', coalesce(v_setting, ''), true);
  RETURN n;
END $$;
