-- A site probe's token is bound to exactly one site: a probe box stolen from one client's site
-- must open nothing of another site's inventory (addresses, SNMP and ONVIF credentials). The
-- site's client is kept beside it as it was when the token was issued, so that a site deleted
-- then created again under the same reference for another client is not seen through an old
-- token. Only probe tokens have a site; probe tokens issued before this migration have none,
-- and may do nothing until replaced (docs/access.md).
-- No foreign key to sites: a token, even revoked, stays in the trail after its site is gone.
ALTER TABLE api_tokens ADD COLUMN site_ref TEXT;
ALTER TABLE api_tokens ADD COLUMN site_client_ref TEXT;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_site
    CHECK ((site_ref IS NULL) = (site_client_ref IS NULL) AND (site_ref IS NULL OR scope = 'probe'));
