// The production RiskAccount: the risk engine's view of a Portfolio (positions, free balances, equity), as one
// class so the check's calls to it are monomorphic and small enough for V8 to inline (object literals with arrow
// functions were three closures per kernel). Reads only; allocation-free on the hot path.

import type { InstrumentId } from '../core/units.ts';
import type { CurrencyId } from '../model/currency.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { RiskAccount } from './risk-engine.ts';

export class PortfolioRiskAccount implements RiskAccount {
  private readonly portfolio: Portfolio;
  /** The risk engine's account currency: equity for the loss limits is in it. */
  private readonly currency: CurrencyId;

  constructor(portfolio: Portfolio, accountCurrency: CurrencyId) {
    this.portfolio = portfolio;
    this.currency = accountCurrency;
  }

  positionQty(instrumentId: InstrumentId): number {
    return this.portfolio.netQty(instrumentId);
  }

  /** Wallet balance less order locks and position margin, summed over accounts (see Portfolio.free). */
  freeBalance(currencyId: CurrencyId): number {
    const p = this.portfolio;
    // One account (one venue) is the common case: its own figure, without the sum's loop over accounts.
    if (p.accountCount === 1) return p.account(0)!.free(currencyId);
    return p.free(currencyId);
  }

  equity(): number {
    return this.portfolio.equity(this.currency);
  }

  /** Positions change only by fills (Portfolio.applyPlanned), each counted in fillCount. */
  positionVersion(): number {
    return this.portfolio.fillCount;
  }
}
