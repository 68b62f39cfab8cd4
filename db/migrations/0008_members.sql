-- A volunteer who left an organisation in /profile: importing that organisation's list again
-- does not make them a member again (opening its volunteers' link does, and removes the row).
CREATE TABLE membership_departures (
    person_id        INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    left_at          TEXT NOT NULL,
    PRIMARY KEY (person_id, organisation_id)
) WITHOUT ROWID;
