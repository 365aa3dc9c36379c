"""Start the web chat on the documents in docs_src/: ``python app.py`` (same as ``qa serve``).

Binds 127.0.0.1 unless ``--host`` or $QA_HOST says otherwise; the port comes from
``--port`` or $GRADIO_SERVER_PORT (default 7860). The index is built first when it
is missing or stale.
"""

import sys

from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
