-- A tier may run several exporters: every artifact of a capsule, and every
-- delivery receipt, in the tier's order. artifact_name, artifact_type and
-- receipt keep the main (first) artifact's.
ALTER TABLE capsules ADD COLUMN artifacts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE capsules ADD COLUMN receipts TEXT NOT NULL DEFAULT '[]';
