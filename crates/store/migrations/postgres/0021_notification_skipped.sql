-- A later entry of a person's channel order (issue 26, item 3: an SMS at once, a call 5
-- minutes later) is not sent when the alarm was acknowledged meanwhile: its page ends
-- 'skipped', with the reason in `answer`.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'skipped'));
