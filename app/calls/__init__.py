"""What every task shares over the provider layer: metrics of its calls, the outcome of
its calls, partial JSON while it streams, structured replies with one repair, and the one
secret policy for any text that leaves the machine (outbound)."""
