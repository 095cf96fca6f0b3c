// The raw fork floor: answer one message, then exit.
process.on("message", (x) => process.send(x + 1, () => process.exit(0)));
