"""What every layer shares and nothing else: the injectable clock. Imports nothing of Amigo's."""
