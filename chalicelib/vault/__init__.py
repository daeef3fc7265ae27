"""The customer-data vault: the only place a person's name, email, phone, addresses and
social handles are kept, and the only code that can read them back.

- `models`, `policy`, `masking`, `blind_index`: pure rules and shapes (no AWS).
- `sealing`: AES-256-GCM per field, the token and field name bound as associated data.
- `keyring`: one data key per customer from KMS (`GenerateDataKey`), unwrapped keys cached
  in memory for a short, bounded time.
- `store`: the vault data table (sealed fields, blind index, audit) and the keys table
  (wrapped data keys, no backups: deleting one crypto-shreds that customer).
- `service`: tokenize, purpose-bound detokenize, export, erase, audit; `handler` runs them as
  commands; `client` is how everything else calls them (the vault's Lambda, or in-process).
"""
