-- Raw check results, one row per result the executor (or a heartbeat) published.
-- checked_at is when the check started (started_at): the moment the target was
-- looked at, not when it was planned. Skipped checks are kept, marked by their
-- outcome, and left out of every statistic.
-- A later migration partitions this table by checked_at and adds rollups.
create table check_results (
    result_id uuid primary key,
    monitor_id uuid not null,
    organization_id uuid not null,
    region text not null,
    due_at timestamptz not null,
    checked_at timestamptz not null,
    outcome text not null,  -- up | down | skipped
    response_ms double precision not null default 0,
    status_code integer,
    error_class text,
    message text not null default ''
);
create index check_results_by_monitor on check_results (monitor_id, checked_at desc, result_id desc);
