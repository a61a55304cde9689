-- 0008: how long each job waited for a runner slot (`-j`) after it was
-- ready to start, in milliseconds: the queue time of /metrics. NULL for
-- jobs recorded before this column existed.
ALTER TABLE jobs ADD COLUMN queued_ms INTEGER;
