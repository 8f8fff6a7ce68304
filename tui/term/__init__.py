"""What reaches the terminal, and how often: frames whose style codes say only what changed,
Rich's and Textual's rendering caches held to a budget, draws throttled to a rate."""
