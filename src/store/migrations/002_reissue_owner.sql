-- 002: which process runs a reissue that is carried out in one go
-- ("<boot id>/<pid>/<start time>"), so a later process can tell an
-- abandoned one (its owner died) from one still running. NULL for work
-- that is owned by the job queue instead.
ALTER TABLE reissues ADD COLUMN owner TEXT;
