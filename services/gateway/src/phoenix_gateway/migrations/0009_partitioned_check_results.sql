-- check_results becomes partitioned by range on checked_at, one partition per
-- UTC day, so retention drops whole days instead of deleting rows.
-- A unique key on a partitioned table must hold the partition key: the key is
-- (checked_at, result_id). A result's checked_at never changes (it is its
-- started_at), so a redelivered result still conflicts and is still ignored:
-- one row per result id, as before.
-- Partitions are named check_results_pYYYYMMDD and are created ahead by the
-- gateway (readmodel/partitions.py); here only the days existing rows need and
-- today .. today + 2.
alter table check_results rename to check_results_unpartitioned;
alter table check_results_unpartitioned rename constraint check_results_pkey to check_results_unpartitioned_pkey;
alter index check_results_by_monitor rename to check_results_unpartitioned_by_monitor;

create table check_results (
    result_id uuid not null,
    monitor_id uuid not null,
    organization_id uuid not null,
    region text not null,
    due_at timestamptz not null,
    checked_at timestamptz not null,
    outcome text not null,  -- up | down | skipped
    response_ms double precision not null default 0,
    status_code integer,
    error_class text,
    message text not null default '',
    primary key (checked_at, result_id)
) partition by range (checked_at);
create index check_results_by_monitor on check_results (monitor_id, checked_at desc, result_id desc);

do $$
declare
    day date;
begin
    for day in
        select distinct (checked_at at time zone 'UTC')::date from check_results_unpartitioned
        union
        select (now() at time zone 'UTC')::date + ahead from generate_series(0, 2) as ahead
    loop
        execute format(
            'create table if not exists %I partition of check_results for values from (%L) to (%L)',
            'check_results_p' || to_char(day, 'YYYYMMDD'),
            day::timestamp at time zone 'UTC',
            (day + 1)::timestamp at time zone 'UTC'
        );
    end loop;
end $$;

insert into check_results (result_id, monitor_id, organization_id, region, due_at, checked_at,
                           outcome, response_ms, status_code, error_class, message)
select result_id, monitor_id, organization_id, region, due_at, checked_at,
       outcome, response_ms, status_code, error_class, message
from check_results_unpartitioned;
drop table check_results_unpartitioned;
