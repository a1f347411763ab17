-- What the application's PostgreSQL role may do on TrustDesk's tables, and nothing more.
--
-- The application must not own the tables: an owner can drop or disable the triggers that
-- keep audit_event and decision append-only (docs/concurrency.md). So the migrations run
-- as an owner role and the application connects as another. Run this as the owner, after
-- `alembic upgrade head` (on every deploy: a migration may add tables):
--
--   psql -v app_role=trustdesk -f scripts/grant_app_role.sql postgresql://trustdesk_owner@db/trustdesk
\set ON_ERROR_STOP on
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
-- the history is written, never rewritten (the triggers refuse it as well): a decision
-- takes one UPDATE, the undo's stamp
REVOKE UPDATE, DELETE ON audit_event FROM :"app_role";
REVOKE DELETE ON decision FROM :"app_role";
