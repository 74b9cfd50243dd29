-- Rollups of check_results per minute, hour and day, kept up to date by the
-- history writer in the same transaction as the raw rows (readmodel/history.py).
-- Only rows the raw insert actually inserted are added, so a redelivered
-- result changes no count. Skipped checks are not counted.
--   total = up + down + degraded; latency_* and histogram: successful (up) checks only.
--   down_slots: distinct due times with a failed check (regions counted once);
--     downtime seconds = down_slots x the monitor's interval, capped at the bucket.
--   histogram[i + 1] = checks whose latency fell in bucket i of
--     history_latency_bucket: 0 for < 1 ms, then four buckets per doubling
--     (bucket i >= 1 holds [2^((i-1)/4), 2^(i/4)) ms), the last (68) holds >= 2^16.75 ms.
--     Trailing empty buckets are not stored.
-- Retention: minute rollups 7 days (daily partitions, dropped), hour 90 days,
-- day 2 years (deleted by the partition manager's hourly round).

create function history_latency_bucket(ms double precision) returns integer
language sql immutable parallel safe as $$
    select case when ms < 1 then 0 else least(68, 1 + floor(4 * ln(ms) / ln(2)))::integer end
$$;

-- The state function of history_histogram: one more check in bucket i.
create function history_histogram_add_one(h integer[], i integer) returns integer[]
language plpgsql immutable parallel safe as $$
begin
    if i is null then
        return h;
    end if;
    if h is null then
        h := array_fill(0, array[i + 1]);
    elsif cardinality(h) < i + 1 then
        h := h || array_fill(0, array[i + 1 - cardinality(h)]);
    end if;
    h[i + 1] := h[i + 1] + 1;
    return h;
end
$$;

create aggregate history_histogram(integer) (sfunc = history_histogram_add_one, stype = integer[]);

-- Bucket-wise sum of two histograms of any lengths (the rollup upsert's merge).
create function history_histogram_merge(a integer[], b integer[]) returns integer[]
language sql immutable parallel safe as $$
    select coalesce(array_agg(coalesce(a[i], 0) + coalesce(b[i], 0) order by i), '{}')
    from generate_series(1, greatest(coalesce(cardinality(a), 0), coalesce(cardinality(b), 0))) as i
$$;

create table check_rollups_minute (
    monitor_id uuid not null,
    bucket_start timestamptz not null,
    organization_id uuid not null,
    total integer not null,
    up integer not null,
    down integer not null,
    degraded integer not null,
    down_slots integer not null,
    latency_sum double precision not null,
    latency_min double precision,
    latency_max double precision,
    histogram integer[] not null,
    primary key (monitor_id, bucket_start)
) partition by range (bucket_start);

create table check_rollups_hour (like check_rollups_minute including defaults);
alter table check_rollups_hour add primary key (monitor_id, bucket_start);
create index check_rollups_hour_by_start on check_rollups_hour (bucket_start);
create table check_rollups_day (like check_rollups_minute including defaults);
alter table check_rollups_day add primary key (monitor_id, bucket_start);
create index check_rollups_day_by_start on check_rollups_day (bucket_start);

-- One row per (monitor, due time) that had a failed check: the first failed
-- result of a slot counts it, later regions' failures of the same slot do not.
-- Kept as long as raw results.
create table check_down_slots (
    monitor_id uuid not null,
    due_at timestamptz not null,
    primary key (monitor_id, due_at)
);
create index check_down_slots_by_due on check_down_slots (due_at);

-- Partitions of the minute rollups for the days of existing results and today .. today + 2.
do $$
declare
    day date;
begin
    for day in
        select distinct (checked_at at time zone 'UTC')::date from check_results
        union
        select (now() at time zone 'UTC')::date + ahead from generate_series(0, 2) as ahead
    loop
        execute format(
            'create table if not exists %I partition of check_rollups_minute for values from (%L) to (%L)',
            'check_rollups_minute_p' || to_char(day, 'YYYYMMDD'),
            day::timestamp at time zone 'UTC',
            (day + 1)::timestamp at time zone 'UTC'
        );
    end loop;
end $$;

-- Existing results: the same aggregation the writer does, once.
insert into check_down_slots (monitor_id, due_at)
select distinct monitor_id, due_at from check_results where outcome = 'down';

create temporary table history_backfill on commit drop as
select r.monitor_id, r.organization_id, r.checked_at, r.outcome, r.response_ms,
       case when s.first_checked_at = r.checked_at and s.first_id = r.result_id then 1 else 0 end as slot
from check_results r
left join (
    select distinct on (monitor_id, due_at) monitor_id, due_at, checked_at as first_checked_at,
           result_id as first_id
    from check_results where outcome = 'down' order by monitor_id, due_at, checked_at, result_id
) s on s.monitor_id = r.monitor_id and s.due_at = r.due_at and r.outcome = 'down'
where r.outcome <> 'skipped';

insert into check_rollups_minute
select monitor_id, date_trunc('minute', checked_at, 'UTC'), (array_agg(organization_id))[1],
       count(*), count(*) filter (where outcome = 'up'), count(*) filter (where outcome = 'down'),
       count(*) filter (where outcome = 'degraded'), sum(slot),
       coalesce(sum(response_ms) filter (where outcome = 'up'), 0),
       min(response_ms) filter (where outcome = 'up'), max(response_ms) filter (where outcome = 'up'),
       coalesce(history_histogram(history_latency_bucket(response_ms)) filter (where outcome = 'up'), '{}')
from history_backfill group by 1, 2;
insert into check_rollups_hour
select monitor_id, date_trunc('hour', checked_at, 'UTC'), (array_agg(organization_id))[1],
       count(*), count(*) filter (where outcome = 'up'), count(*) filter (where outcome = 'down'),
       count(*) filter (where outcome = 'degraded'), sum(slot),
       coalesce(sum(response_ms) filter (where outcome = 'up'), 0),
       min(response_ms) filter (where outcome = 'up'), max(response_ms) filter (where outcome = 'up'),
       coalesce(history_histogram(history_latency_bucket(response_ms)) filter (where outcome = 'up'), '{}')
from history_backfill group by 1, 2;
insert into check_rollups_day
select monitor_id, date_trunc('day', checked_at, 'UTC'), (array_agg(organization_id))[1],
       count(*), count(*) filter (where outcome = 'up'), count(*) filter (where outcome = 'down'),
       count(*) filter (where outcome = 'degraded'), sum(slot),
       coalesce(sum(response_ms) filter (where outcome = 'up'), 0),
       min(response_ms) filter (where outcome = 'up'), max(response_ms) filter (where outcome = 'up'),
       coalesce(history_histogram(history_latency_bucket(response_ms)) filter (where outcome = 'up'), '{}')
from history_backfill group by 1, 2;
