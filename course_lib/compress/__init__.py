"""Deep Compression (Han, Mao & Dally 2016), one stage per module.

prune     magnitude pruning, and an optimizer wrapper that keeps pruned weights at zero
share     k-means weight sharing: k = 2^bits shared values per layer, fine-tuned by gradient
huffman   Huffman coding of the cluster indices and of the sparse-index gaps
storage   the compressed file: write it, read it back (checked), decode it into a model
"""

from course_lib.compress import huffman, prune, share, storage

__all__ = ["prune", "share", "huffman", "storage"]
