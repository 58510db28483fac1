jest.setTimeout(180_000);

// Nx sets FORCE_COLOR for the tasks it runs; the binaries these tests start (gulp, grunt,
// nx, dockpush) must see the environment a user's shell gives them, where colour follows
// the terminal.
delete process.env.FORCE_COLOR;
