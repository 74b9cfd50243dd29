create table checkpoints (name text primary key, position bigint not null);

create table channels (
    id uuid primary key,
    organization_id uuid not null,
    type text not null,
    config jsonb not null
);

create table alert_rules (
    id uuid primary key,
    organization_id uuid not null,
    spec jsonb not null
);
create index alert_rules_by_organization on alert_rules (organization_id);

create table monitors (
    id uuid primary key,
    organization_id uuid not null,
    name text not null,
    url text not null,
    tag_ids jsonb not null default '[]'
);

-- The delivery log: one row per idempotency key (status event, rule, channel).
create table deliveries (
    key text primary key,
    organization_id uuid not null,
    channel_id uuid not null,
    monitor_id uuid not null,
    event text not null,
    status text not null check (status in ('pending', 'sent', 'failed', 'skipped')),
    attempts integer not null default 0,
    last_error text,
    created_at timestamptz not null default now(),
    sent_at timestamptz
);
create index deliveries_by_monitor on deliveries (monitor_id, created_at);
