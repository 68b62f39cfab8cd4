-- Placeholder on the volunteer branch only: 0006 is another branch's migration, merged before 0007.
-- Drop this file when it lands.
SELECT 1;
