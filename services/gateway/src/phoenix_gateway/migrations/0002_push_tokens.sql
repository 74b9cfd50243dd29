-- Heartbeats find their monitor by its push token.
create unique index monitors_by_push_token on monitors ((spec ->> 'push_token'))
    where spec ->> 'push_token' <> '';
