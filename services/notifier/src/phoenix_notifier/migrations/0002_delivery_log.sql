-- What a delivery needs to be sent again (operator retry) and who holds it now.
alter table deliveries add column id uuid;
alter table deliveries add column job jsonb;
alter table deliveries add column claimed_at timestamptz;
alter table deliveries drop constraint deliveries_status_check;
alter table deliveries add constraint deliveries_status_check
    check (status in ('pending', 'sending', 'sent', 'failed', 'skipped'));
create unique index deliveries_by_id on deliveries (id);

-- The monitor's last known status: reminders stop the moment it is not down.
alter table monitors add column status text not null default 'pending';

-- One row per (monitor, rule, channel) while a "down" alert with a resend
-- interval stands; the reminder loop sends the n-th reminder at next_at.
create table reminders (
    monitor_id uuid not null,
    alert_rule_id uuid not null,
    channel_id uuid not null,
    organization_id uuid not null,
    job jsonb not null,
    interval_seconds integer not null,
    next_at timestamptz not null,
    sent integer not null default 0,
    primary key (monitor_id, alert_rule_id, channel_id)
);
create index reminders_due on reminders (next_at);
