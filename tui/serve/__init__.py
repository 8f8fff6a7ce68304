"""`trainterm serve`: the command (flags, the bound address, the stage cache filled), the web
server with its seats, one visitor's app, the process groups a session is, and a real
browser on the page (for the tests and `trainterm bench-serve`)."""
