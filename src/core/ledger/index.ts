export { appendLedger, ledgerPath, readLedger, type LedgerContents, type ReadLedgerOptions } from './ledger';
