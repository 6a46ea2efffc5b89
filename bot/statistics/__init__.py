"""What operators see of the running bot: statistics and their chart."""
