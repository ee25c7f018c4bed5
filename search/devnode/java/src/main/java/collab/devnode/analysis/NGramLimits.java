package collab.devnode.analysis;

import org.elasticsearch.index.IndexSettings;

/** Enforces index.max_ngram_diff on ngram tokenizers and filters, with Elasticsearch's message. */
final class NGramLimits {

    private NGramLimits() {}

    static void check(IndexSettings index, String component, int minGram, int maxGram) {
        int maxAllowedDiff = index.getMaxNgramDiff();
        if (maxGram - minGram > maxAllowedDiff) {
            throw new IllegalArgumentException(
                "The difference between max_gram and min_gram in "
                    + component
                    + " must be less than or equal to: ["
                    + maxAllowedDiff
                    + "] but was ["
                    + (maxGram - minGram)
                    + "]. This limit can be set by changing the ["
                    + IndexSettings.MAX_NGRAM_DIFF_SETTING.getKey()
                    + "] index level setting."
            );
        }
    }
}
