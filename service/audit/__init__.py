"""The audit trail: who read and who changed a referral or a directory record."""
