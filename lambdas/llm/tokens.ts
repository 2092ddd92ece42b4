/**
 * A tokenizer-free token estimate: about 4 characters per token for English and code with BPE
 * tokenizers, rounded up and a little pessimistic on purpose, since it is used to keep prompts inside the
 * context window (overestimating costs a smaller chunk; underestimating costs a failed call).
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  // Runs of spaces (COBOL's fixed columns, Java indentation) tokenize far better than prose.
  const squeezed = text.replace(/ {2,}/g, ' ');
  return Math.ceil(squeezed.length / 3.5);
}

export function estimateRequestTokens(request: { system: string; messages: Array<{ content: string }> }): number {
  // A few tokens of framing per message, as chat templates add.
  return estimateTokens(request.system) + request.messages.reduce((n, m) => n + 4 + estimateTokens(m.content), 4);
}
