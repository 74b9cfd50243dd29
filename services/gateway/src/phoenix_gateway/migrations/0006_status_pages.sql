-- Slugs are unique by the config role's check, not by an index: a projection
-- must never refuse an event already in the log.
create table status_pages (
    id uuid primary key,
    organization_id uuid not null,
    slug text not null,
    spec jsonb not null,
    password_hash text not null default '',  -- never leaves the gateway
    version integer not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index status_pages_by_slug on status_pages (slug, created_at);
create index status_pages_by_organization on status_pages (organization_id, id);
