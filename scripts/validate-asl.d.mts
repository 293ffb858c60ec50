export interface AslDiagnostic {
  readonly line: number;
  readonly character: number;
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}
export function validateAsl(text: string, uri?: string): Promise<AslDiagnostic[]>;
