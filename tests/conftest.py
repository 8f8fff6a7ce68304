import os
import tempfile

# Tokenizers trained by tests (and by engine processes the tests start, which inherit the
# environment) go to a throwaway cache, never the user's ~/.cache.
os.environ.setdefault("TRAINTERM_CACHE", tempfile.mkdtemp(prefix="trainterm-test-cache-"))
