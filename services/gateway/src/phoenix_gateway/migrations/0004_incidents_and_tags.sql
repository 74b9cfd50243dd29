create table incidents (
    id uuid primary key,
    organization_id uuid not null,
    monitor_id uuid not null,
    title text not null,
    cause text not null default '',
    status text not null default 'open',  -- open | acknowledged | resolved
    severity text not null default 'critical',
    started_at timestamptz not null,
    acknowledged_at timestamptz,
    resolved_at timestamptz,
    duration_seconds double precision,
    updated_at timestamptz not null
);
create index incidents_by_organization on incidents (organization_id, started_at desc, id desc);
create index incidents_by_monitor on incidents (monitor_id, started_at desc, id desc);

-- The timeline: one row per event, keyed by the event id (replays change nothing).
create table incident_updates (
    event_id text primary key,
    incident_id uuid not null,
    at timestamptz not null,
    kind text not null,  -- opened | acknowledged | update | resolved | status_changed
    message text not null default '',
    by_user_id text not null default ''
);
create index incident_updates_by_incident on incident_updates (incident_id, at);

-- Names are unique per organization by the config role's check, not by an
-- index: a projection must never refuse an event already in the log.
create table tags (
    id uuid primary key,
    organization_id uuid not null,
    name text not null,
    color text not null,
    description text not null default '',
    version integer not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index tags_by_organization on tags (organization_id, id);
