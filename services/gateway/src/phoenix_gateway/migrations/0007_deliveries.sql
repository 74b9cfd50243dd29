-- The delivery log as users read it: one row per (alert, rule, channel), from delivery.* events.
create table deliveries (
    seq bigserial unique,
    id uuid primary key,
    key text not null,
    organization_id uuid not null,
    channel_id uuid not null,
    channel_type text not null,
    alert_rule_id uuid,
    monitor_id uuid not null,
    incident_id uuid,
    event text not null,
    resend integer not null default 0,
    status text not null,
    attempts integer not null default 0,
    last_error text,
    permanent boolean not null default false,
    version integer not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    sent_at timestamptz
);
create index deliveries_by_organization on deliveries (organization_id, seq desc);
create index deliveries_by_monitor on deliveries (monitor_id, seq desc);
create index deliveries_by_incident on deliveries (incident_id, seq desc);
create index deliveries_by_channel on deliveries (channel_id, seq desc);
