-- Intelligence hub: mark the newest version of each object (per collection and id) so that TAXII's default
-- `match[version]=last` reads walk a partial index and stop at the page limit, instead of evaluating a correlated
-- MAX(version_us) per row. Maintained by Store::intel_put_objects on every write.
ALTER TABLE intel_object ADD COLUMN is_latest INTEGER NOT NULL DEFAULT 0;
UPDATE intel_object SET is_latest = 1
 WHERE version_us = (SELECT MAX(v.version_us) FROM intel_object v
                      WHERE v.collection = intel_object.collection AND v.id = intel_object.id);
CREATE INDEX intel_object_latest_added ON intel_object (collection, date_added, id, version_us) WHERE is_latest = 1;
CREATE INDEX intel_object_latest_type ON intel_object (collection, type, date_added, id, version_us) WHERE is_latest = 1;
