//! Domain model, rules and sync core shared by the server and the client.
