"""Words as numbers: tokenisers, a vocabulary with word2vec's sampling, queries on vectors, BLEU.

from course_lib.nlp import Vocab, UnigramSampler, WordVectors
from course_lib.nlp import english_words, japanese_words, japanese_sentences
from course_lib.nlp import corpus_bleu   # BLEU by hand, on token lists or strings
"""

from course_lib.nlp.analogy import WordVectors
from course_lib.nlp.bleu import BleuScore, corpus_bleu
from course_lib.nlp.tokenize import (
    english_sentences,
    english_words,
    japanese_sentences,
    japanese_words,
)
from course_lib.nlp.vocab import UnigramSampler, Vocab

__all__ = [
    "BleuScore",
    "corpus_bleu",
    "Vocab",
    "UnigramSampler",
    "WordVectors",
    "english_words",
    "english_sentences",
    "japanese_words",
    "japanese_sentences",
]
