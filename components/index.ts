// Components built from the provider resources.
export {};
