-- A command that waits for an offline PC until this time, then ends expired (models/commands.go
-- ExpireCommands); NULL: it ends as the contract says, when its PC has not polled within its
-- timeout.
ALTER TABLE commands ADD COLUMN expires_at {{.Time}};
